project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "worker" {
  irsa { # ERROR: OIDC reader without a subject
    provider_arn = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    namespace    = "shop"
  }
}

secret "ok" {
  readers = [role.worker]
  value   = "xxxxxxxx"
}
