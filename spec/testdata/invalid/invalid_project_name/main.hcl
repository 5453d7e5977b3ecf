project = "my shop" # ERROR: Invalid project name

stage "dev" {
  region = "us-east-1"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
