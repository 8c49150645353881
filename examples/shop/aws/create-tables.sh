#!/bin/sh
# Creates the example's source tables (shop.orders, shop.returns, shop_raw.customers) from the
# data `npm start` generated, in an S3 location of yours, with the AWS CLI:
#   examples/shop/aws/create-tables.sh s3://my-data-bucket/shop/ <WorkGroup output of the stack>
# Then put that location under aws.s3Locations in examples/shop/dropkit.yaml and deploy again.
set -eu
LOCATION=${1:?usage: create-tables.sh s3://bucket/prefix/ WORKGROUP}
WORKGROUP=${2:?usage: create-tables.sh s3://bucket/prefix/ WORKGROUP}
case $LOCATION in */) ;; *) LOCATION="$LOCATION/" ;; esac
HERE=$(dirname "$0")
DATA="$HERE/../data"
[ -f "$DATA/orders.parquet" ] || { echo "no $DATA/orders.parquet: run npm start first" >&2; exit 2; }
aws s3 cp "$DATA/orders.parquet" "${LOCATION}orders/orders.parquet"
aws s3 cp "$DATA/returns.parquet" "${LOCATION}returns/returns.parquet"
aws s3 cp "$DATA/customers.csv" "${LOCATION}customers_csv/customers.csv"
# One statement at a time (Athena runs one per query), each waited for.
sed -e '/^--/d' -e "s#{{LOCATION}}#$LOCATION#g" "$HERE/create-tables.sql" | tr '\n' ' ' | tr ';' '\n' | while read -r SQL; do
  [ -n "$SQL" ] || continue
  ID=$(aws athena start-query-execution --work-group "$WORKGROUP" --query-string "$SQL" --query QueryExecutionId --output text)
  while :; do
    STATE=$(aws athena get-query-execution --query-execution-id "$ID" --query QueryExecution.Status.State --output text)
    case $STATE in
      SUCCEEDED) echo "ok: $(echo "$SQL" | cut -c1-70)"; break ;;
      FAILED | CANCELLED) aws athena get-query-execution --query-execution-id "$ID" --query QueryExecution.Status.StateChangeReason --output text >&2; exit 1 ;;
      *) sleep 2 ;;
    esac
  done
done
