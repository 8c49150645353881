-- The example's source tables in the Glue catalog, over the data `npm start` generates
-- (examples/shop/data), copied by create-tables.sh under {{LOCATION}}. DDL is Hive syntax
-- (backticks), the CTAS Trino's; test/adapters/athena-example-tables.test.ts parses each.
CREATE DATABASE IF NOT EXISTS `shop`;
CREATE DATABASE IF NOT EXISTS `shop_raw`;
CREATE EXTERNAL TABLE IF NOT EXISTS `shop`.`orders` (
  `order_id` bigint, `partner_id` string, `customer_id` bigint, `ordered_at` timestamp,
  `amount` decimal(12,2), `currency` string, `status` string, `note` string
) STORED AS PARQUET LOCATION '{{LOCATION}}orders/';
CREATE EXTERNAL TABLE IF NOT EXISTS `shop`.`returns` (
  `return_id` bigint, `order_id` bigint, `returned_at` timestamp, `reason` string
) STORED AS PARQUET LOCATION '{{LOCATION}}returns/';
CREATE EXTERNAL TABLE IF NOT EXISTS `shop_raw`.`customers_csv` (
  `customer_id` string, `name` string, `country` string, `signup_date` string, `vip` string, `updated_at` string
) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION '{{LOCATION}}customers_csv/'
TBLPROPERTIES ('skip.header.line.count' = '1');
CREATE TABLE "shop_raw"."customers" WITH (format = 'PARQUET', external_location = '{{LOCATION}}customers/') AS
SELECT CAST(customer_id AS BIGINT) AS customer_id, name, country, CAST(signup_date AS DATE) AS signup_date,
  CAST(vip AS BOOLEAN) AS vip, CAST(from_iso8601_timestamp(replace(updated_at, ' ', 'T') || ':00') AS TIMESTAMP) AS updated_at
FROM "shop_raw"."customers_csv";
-- The semantic layer's models name their tables unqualified (dbt's ref('customers')): a view puts
-- customers in the default database too.
CREATE OR REPLACE VIEW "shop"."customers" AS SELECT * FROM "shop_raw"."customers";
