project = "shop" # ERROR: Duplicate project attribute
