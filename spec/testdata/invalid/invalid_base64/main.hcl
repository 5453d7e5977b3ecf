project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "blob" {
  readers = [role.web]
  binary  = "not base64!" # ERROR: Invalid base64
}
