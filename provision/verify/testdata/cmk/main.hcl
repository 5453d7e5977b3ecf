# Two roles and three secrets under two customer managed keys: key 1 is
# shared by a secret of each role, so each role must be able to decrypt
# its own secret and not the other's.

project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  description = "web tier"
}

role "worker" {
  service          = ["ecs-tasks.amazonaws.com"]
  instance_profile = false
}

secret "app/db" {
  readers     = [role.web]
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/11111111-1111-1111-1111-111111111111"
  generate {
    length = 16
  }
}

secret "app/queue" {
  readers     = [role.worker]
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/11111111-1111-1111-1111-111111111111"
  generate {
    length = 16
  }
}

secret "app/audit" {
  readers     = [role.web, role.worker]
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/22222222-2222-2222-2222-222222222222"
  generate {
    length = 16
  }
}

secret "app/config" {
  readers = [role.web, role.worker]
  value = {
    mode = "dev"
  }
}
