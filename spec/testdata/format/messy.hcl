project="shop"
stage "dev" {
region="us-east-1"
    account_id =    "000000000000"
  vars = {
  db_host="db.dev.internal"
      port=5432
  }
}
role "web" {
description = "web"
}
secret "app/db/credentials" {
readers=[role.web]
value = {
host = var.db_host
username="app"
}
generate "password" {length=32}
}
