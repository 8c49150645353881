SELECT return_id, order_id, returned_at, reason
FROM returns
WHERE returned_at >= $window_start AND returned_at < $window_end
ORDER BY return_id
