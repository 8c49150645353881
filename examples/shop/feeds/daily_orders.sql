-- The slot's data interval is [$window_start, $window_end): bound parameters, never spliced text.
SELECT order_id, partner_id, customer_id, ordered_at, amount, currency, status, note
FROM orders
WHERE ordered_at >= $window_start AND ordered_at < $window_end
ORDER BY order_id
