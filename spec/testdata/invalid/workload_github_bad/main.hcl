project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "deploy" {
  github_actions {
    repository  = "octo-org/*" # ERROR: Wildcard repository
    environment = "prod"
  }
  github_actions {
    repository = "octo-org" # ERROR: Invalid GitHub repository
    ref        = "main"     # ERROR: Invalid Git ref
  }
  github_actions {
    repository  = "octo-org/shop"
    environment = "prod-*" # ERROR: Invalid GitHub environment
  }
}

secret "ok" {
  readers = [role.deploy]
  value   = "xxxxxxxx"
}
