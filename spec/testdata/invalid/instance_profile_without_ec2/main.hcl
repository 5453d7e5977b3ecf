project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  service          = ["lambda.amazonaws.com"]
  instance_profile = true # ERROR: Instance profile without EC2
}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
