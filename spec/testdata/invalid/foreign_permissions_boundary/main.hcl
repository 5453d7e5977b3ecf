project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  permissions_boundary = "arn:aws:iam::000000000000:policy/secretboot/shop/dev/mine" # ERROR: Not the stage's permissions boundary
}

role "batch" {
  permissions_boundary = "arn:aws:iam::000000000000:policy/secretboot/shop/dev/secretboot-shop-dev-boundary"
}

role "other" {
  permissions_boundary = "arn:aws:iam::111111111111:policy/secretboot/shop/dev/secretboot-shop-dev-boundary" # ERROR: Not the stage's permissions boundary
}

secret "ok" {
  readers = [role.web, role.batch, role.other]
  value   = "xxxxxxxx"
}
