project = "shop"

# dev pins no account: its credentials may be in prod's account or qa's, so
# its prefix must overlap neither. prod and qa, pinned to different accounts,
# may share a prefix.
stage "prod" { # ERROR: Overlapping name prefixes
  region      = "us-east-1"
  account_id  = "000000000000"
  name_prefix = "app/"
}

stage "dev" {
  region      = "us-east-1"
  name_prefix = "app/dev/"
}

stage "qa" { # ERROR: Overlapping name prefixes
  region      = "us-east-1"
  account_id  = "111111111111"
  name_prefix = "app/"
}

role "web" {}

secret "db" {
  readers = [role.web]
  value   = "x"
}
