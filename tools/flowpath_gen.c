int gen_stub_flowpath_gen;
int main(void) { return 0; }
