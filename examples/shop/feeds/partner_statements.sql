-- $partner_id is bound per run: each partner's drop holds only its own rows.
SELECT partner_id, order_id, ordered_at, amount, currency, status
FROM orders
WHERE partner_id = $partner_id
  AND amount >= $min_amount
  AND ordered_at >= $window_start AND ordered_at < $window_end
ORDER BY order_id
