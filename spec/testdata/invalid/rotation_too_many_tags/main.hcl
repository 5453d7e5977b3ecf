project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}

secret "db" {
  readers = [role.web]
  generate {}
  tags = { # ERROR: Too many tags
    t00 = "v"
    t01 = "v"
    t02 = "v"
    t03 = "v"
    t04 = "v"
    t05 = "v"
    t06 = "v"
    t07 = "v"
    t08 = "v"
    t09 = "v"
    t10 = "v"
    t11 = "v"
    t12 = "v"
    t13 = "v"
    t14 = "v"
    t15 = "v"
    t16 = "v"
    t17 = "v"
    t18 = "v"
    t19 = "v"
    t20 = "v"
    t21 = "v"
    t22 = "v"
    t23 = "v"
    t24 = "v"
    t25 = "v"
    t26 = "v"
    t27 = "v"
    t28 = "v"
    t29 = "v"
    t30 = "v"
    t31 = "v"
    t32 = "v"
    t33 = "v"
    t34 = "v"
    t35 = "v"
    t36 = "v"
    t37 = "v"
    t38 = "v"
    t39 = "v"
    t40 = "v"
    t41 = "v"
    t42 = "v"
    t43 = "v"
    t44 = "v"
  }
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    automatically_after_days = 30
  }
}
