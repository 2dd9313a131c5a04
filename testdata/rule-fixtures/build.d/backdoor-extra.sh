# Fixtures of the backdoor pack's listener, authentication, IFUNC and hiding rules and of
# the evasion pack (sourced by build.sh, which sets src, packs, cc and wcc).
bx=$src/backdoor-extra
bd=$packs/backdoor/testdata
ev=$packs/evasion/testdata
mkdir -p $ev
cc -o $bd/bind-shell.elf $bx/bindshell.c
cc -o $bd/reverse-shell.elf $bx/revshell.c
cc -o $bd/tcp-helper-server.elf $bx/tcp-helper-server.c
cc -shared -fPIC -o $bd/pam_magic.so $bx/pam_magic.c
cc -shared -fPIC -o $bd/pam_harvest.so $bx/pam_harvest.c
cc -shared -fPIC -o $bd/pam_shadowcheck.so $bx/pam_shadowcheck.c -lcrypt
cc -shared -fPIC -o $bd/libauthhook.so $bx/libauthhook.c -ldl
cc -shared -fPIC -o $bd/libsigcheck.so $bx/libsigcheck.c -lcrypto -Wno-deprecated-declarations
cc -shared -fPIC -Wl,-soname,liblzma.so.5 -o $bd/liblzma-hook.so $bx/liblzma-hook.c
cc -shared -fPIC -Wl,-soname,liblzma.so.5 -o $bd/liblzma-ifunc.so $bx/liblzma-clean.c
cc -shared -fPIC -o $bd/libprochide.so $bx/libprochide.c -ldl
cc -o $ev/antidebug.elf $bx/antidebug.c
cc -o $ev/minitrace.elf $bx/minitrace.c
cc -o $ev/memstat.elf $bx/memstat.c
cc -o $ev/kworker.elf $bx/kworker.c
cc -o $ev/worker-name.elf $bx/worker-name.c
wcc -o $ev/antidebug.exe $bx/antidebug-win.c
wcc -o $ev/crashreport.exe $bx/crashreport-win.c
wcc -o $ev/self-delete.exe $bx/selfdel-win.c
wcc -o $ev/tempclean.exe $bx/tempclean-win.c
cc -o $ev/argv-kworker.elf $bx/argv-kworker.c
cc -o $ev/histfile-shell.elf $bx/histfile-shell.c
cc -o $ev/histview.elf $bx/histview.c
