#include <stdio.h>
int main(void) { puts("healthscore"); return 0; }
