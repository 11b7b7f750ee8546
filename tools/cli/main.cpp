// bentov command line (being written: see issue 2). The only catch site of the program.
#include <cstdio>
int main() {
  std::fputs("bentov: under construction\n", stderr);
  return 2;
}
