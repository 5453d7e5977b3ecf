# secretboot outputs for shop/dev
secretboot_secret_arns = {
  "app/db/credentials" = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/db/credentials-AbCdEf"
  "app/stripe-key"     = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/stripe-key-XyZ123"
}
secretboot_role_arns = {
  "web" = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
}
secretboot_instance_profiles = {
  "web" = "shop-dev-web"
}
