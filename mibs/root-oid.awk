BEGIN { print "#define FP_ROOT_OID 1,3,6,1,4,1,8072,9999,9999,1" }
