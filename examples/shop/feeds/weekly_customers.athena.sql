-- On Athena the customer table lives in the Glue catalog under another name.
SELECT customer_id, name, country, signup_date, vip, updated_at
FROM shop_raw.customers
ORDER BY customer_id
