project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  service = ["ec2"] # ERROR: Invalid service principal
}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
