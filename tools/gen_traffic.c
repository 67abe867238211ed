int gen_stub_gen_traffic;
