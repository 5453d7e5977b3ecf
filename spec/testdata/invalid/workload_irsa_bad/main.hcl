project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "worker" {
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:role/eks" # ERROR: Invalid OIDC provider ARN
    namespace       = "shop"
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC" # ERROR: OIDC provider in another account
    namespace       = "shop"
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com" # ERROR: GitHub provider in an irsa block
    namespace       = "shop"
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/*" # ERROR: Wildcard OIDC provider ARN
    namespace       = "shop"
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.*.amazonaws.com/id/ABC" # ERROR: Wildcard OIDC provider ARN
    namespace       = "shop"
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    namespace       = "*" # ERROR: Invalid Kubernetes namespace
    service_account = "worker"
  }
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    namespace       = "shop" # ERROR: OIDC reader without a subject
    service_account = ""
  }
}

secret "ok" {
  readers = [role.worker]
  value   = "xxxxxxxx"
}
