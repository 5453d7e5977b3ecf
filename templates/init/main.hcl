project = "example"
