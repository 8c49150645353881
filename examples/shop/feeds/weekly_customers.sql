SELECT customer_id, name, country, signup_date, vip, updated_at
FROM customers
ORDER BY customer_id
