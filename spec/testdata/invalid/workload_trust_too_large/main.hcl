project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "api" { # ERROR: Trust policy too large
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-1"
    namespace       = "shop-namespace-1"
    service_account = "api-service-account-1"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-2"
    namespace       = "shop-namespace-2"
    service_account = "api-service-account-2"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-3"
    namespace       = "shop-namespace-3"
    service_account = "api-service-account-3"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-4"
    namespace       = "shop-namespace-4"
    service_account = "api-service-account-4"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-5"
    namespace       = "shop-namespace-5"
    service_account = "api-service-account-5"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-6"
    namespace       = "shop-namespace-6"
    service_account = "api-service-account-6"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-7"
    namespace       = "shop-namespace-7"
    service_account = "api-service-account-7"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-8"
    namespace       = "shop-namespace-8"
    service_account = "api-service-account-8"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-9"
    namespace       = "shop-namespace-9"
    service_account = "api-service-account-9"
  }
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/production-cluster-10"
    namespace       = "shop-namespace-10"
    service_account = "api-service-account-10"
  }
}

secret "ok" {
  readers = [role.api]
  value   = "xxxxxxxx"
}
