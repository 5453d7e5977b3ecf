project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "deploy" {
  github_actions { # ERROR: OIDC reader without a subject
    repository = "octo-org/shop"
  }
}

role "both" {
  github_actions { # ERROR: OIDC reader without a subject
    repository  = "octo-org/shop"
    environment = "prod"
    ref         = "refs/heads/main"
  }
}

secret "ok" {
  readers = [role.deploy, role.both]
  value   = "xxxxxxxx"
}
