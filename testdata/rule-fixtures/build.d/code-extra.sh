# Fixtures of the backdoor pack's literal-credential-compare and got-patching-library
# rules (sourced by build.sh, which sets src, packs and cc).
cx=$src/code-extra
bd=$packs/backdoor/testdata
cc -o $bd/sshd-magic.elf $cx/sshd-magic.c -lcrypt
cc -o $bd/pwcheck.elf $cx/pwcheck.c -lcrypt
cc -shared -fPIC -o $bd/libgotpatch.so $cx/libgotpatch.c
cc -shared -fPIC -o $bd/libgotself.so $cx/libgotself.c
cc -shared -fPIC -o $bd/libmodlist.so $cx/libmodlist.c
