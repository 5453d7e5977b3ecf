project = "access"

# Every secret of dev carries a resource policy, the second lock: whatever
# other policies in the account grant, only a secret's readers, the deployer
# and the break-glass role can read it (docs/security.md, "The two locks").
stage "dev" {
  region          = "us-east-1"
  account_id      = "000000000000"
  resource_policy = true
  # Who applies the stage. On the sandbox secretboot runs as its admin
  # user; in an account, name the deployer role (assume_role_arn is the
  # default).
  deployer_arn = "arn:aws:iam::000000000000:user/sandbox-admin"
  break_glass  = ["arn:aws:iam::000000000000:role/break-glass"]
}

role "api" {
  description = "API service tasks"
  service     = ["ecs-tasks.amazonaws.com"]
}

role "worker" {
  description = "queue workers"
  service     = ["lambda.amazonaws.com"]
}

secret "api/signing-key" {
  description = "signs API session tokens"
  readers     = [role.api]
  generate {
    length  = 64
    special = false
  }
}

secret "worker/queue-token" {
  description = "the workers' queue credentials"
  readers     = [role.worker]
  generate {}
}

# Opts out: a secret that tools outside the spec must read too.
secret "shared/build-cache-token" {
  description     = "read by CI runners granted outside secretboot"
  readers         = [role.worker]
  resource_policy = false
  generate {}
}
