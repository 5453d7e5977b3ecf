project = "shop"

stage "dev" {
  region = "us-east-1"
}

role "deploy" {
  github_actions { # ERROR: GitHub Actions reader needs account_id
    repository = "octo-org/shop"
    ref        = "refs/heads/main"
  }
}

secret "ok" {
  readers = [role.deploy]
  value   = "xxxxxxxx"
}
