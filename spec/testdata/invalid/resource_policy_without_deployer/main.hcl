project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  resource_policy = true # ERROR: Resource policy without a deployer
}

stage "prod" {
  region     = "us-east-1"
  account_id = "111111111111"
}

role "web" {}

secret "locked" {
  readers         = [role.web]
  value           = "xxxxxxxx"
  resource_policy = true # ERROR: Resource policy without a deployer
}

secret "open" {
  readers         = [role.web]
  value           = "xxxxxxxx"
  resource_policy = false
}

secret "inherits" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
