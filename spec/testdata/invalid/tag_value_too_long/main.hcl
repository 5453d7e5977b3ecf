project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {
  tags = { team = join("", [for i in range(129) : "xx"]) } # ERROR: Invalid tag value
}

secret "ok" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
