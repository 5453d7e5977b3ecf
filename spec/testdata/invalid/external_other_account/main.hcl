project = "shop"

stage "dev" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::000000000000:role/deployer"
}

role "web" {}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

role "reporting" {
  external = "arn:aws:iam::999999999999:role/reporting"
}

# The stage's account comes from assume_role_arn: reporting is in another.
secret "report" {
  readers         = [role.web, role.reporting] # ERROR: Cross-account reader without a customer managed key
  value           = "xxxxxxxx"
  resource_policy = true
}

secret "unlocked" {
  readers     = [role.reporting] # ERROR: Cross-account reader without a resource policy
  value       = "xxxxxxxx"
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/0000-1111"
}

secret "shared" {
  readers         = [role.reporting]
  describe        = [role.reporting] # ERROR: Describe for a cross-account reader
  value           = "xxxxxxxx"
  kms_key_arn     = "arn:aws:kms:us-east-1:000000000000:key/0000-1111"
  resource_policy = true
}

role "rotor" {
  external = "arn:aws:iam::999999999999:role/rotor"
}

secret "rotated" {
  readers = [role.web]
  value   = "xxxxxxxx"
  rotation {
    rotator                  = role.rotor # ERROR: Rotator in another account
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
  }
}
