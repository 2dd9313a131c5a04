#!/bin/sh
# Builds the binary fixtures of the built-in rule packs from the C sources here; the
# results are committed beside the rules (rules/builtin/packs/*/testdata) because
# `kensa rules test` must run where no compiler is. Run it from the repository root with
# `make rule-fixtures` after changing a source; gcc and binutils are needed.
set -eu
src=testdata/rule-fixtures
packs=rules/builtin/packs
cc() { gcc -O2 -s "$@"; }

cc -fPIE -pie -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wl,-z,relro,-z,now -o $packs/hardening/testdata/hardened.elf $src/plain.c
cc -fno-pie -no-pie -o $packs/hardening/testdata/no-pie.elf $src/plain.c
cc -fPIE -pie -Wl,-z,relro,-z,now -z execstack -o $packs/hardening/testdata/execstack.elf $src/plain.c
cc -fPIE -pie -fno-stack-protector -Wl,-z,norelro -o $packs/hardening/testdata/no-relro-no-canary.elf $src/plain.c
cc -fPIE -pie -Wl,-z,relro,-z,now -Wl,-rpath,/tmp/casemgr/lib:. -o $packs/hardening/testdata/rpath-writable.elf $src/plain.c
cc -shared -fPIC -o $packs/backdoor/testdata/libpreload.so analyzers/elf/testdata/preload.c -ldl
cc -shared -fPIC -o $packs/backdoor/testdata/libutil.so $src/libutil.c
# A writable and executable segment (code in a section marked "awx"), and the same file
# with the marks UPX leaves (its magic and banners) appended, standing in for a packed
# executable: upx is not packaged for this Debian release.
cc -o $packs/obfuscation/testdata/wx-segment.elf $src/wx.c 2>/dev/null
cp $packs/obfuscation/testdata/wx-segment.elf $packs/obfuscation/testdata/upx-marks.elf
printf 'UPX!\r\n$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. All Rights Reserved. $\nUPX!' >> $packs/obfuscation/testdata/upx-marks.elf

# Windows programs, built with mingw-w64: an ordinary one with the default mitigations
# and without them, the injection and keylogger import sets, and Authenticode-signed
# copies under a throw-away CA: intact, with bytes appended after the signed content,
# and with one byte of code changed after signing.
win=$packs/windows/testdata
wcc() { x86_64-w64-mingw32-gcc -O2 -s "$@"; }
wcc -o $win/plain.exe $src/plain.c
wcc -Wl,--disable-dynamicbase,--disable-nxcompat,--disable-high-entropy-va -o $win/no-mitigations.exe $src/plain.c
# mingw cannot build with Control Flow Guard: a copy of plain.exe with the GUARD_CF bit
# (0x4000) set in DllCharacteristics stands in for a CFG build.
cp $win/plain.exe $win/cfg-flag.exe
peoff=$(od -An -tu4 -j60 -N4 $win/cfg-flag.exe | tr -d ' ')
hi=$(od -An -tu1 -j$((peoff + 95)) -N1 $win/cfg-flag.exe | tr -d ' ')
printf "\\$(printf %o $((hi | 0x40)))" | dd of=$win/cfg-flag.exe bs=1 seek=$((peoff + 95)) conv=notrunc 2>/dev/null
wcc -o $win/inject.exe $src/inject.c
wcc -o $win/keylog.exe $src/keylog.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout $tmp/ca.key -out $tmp/ca.pem -days 3650 -subj "/CN=Fixture Test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout $tmp/leaf.key -out $tmp/leaf.csr -subj "/CN=Hoshizora Systems Code Signing (fixture)" 2>/dev/null
printf 'extendedKeyUsage=codeSigning\n' > $tmp/ext
openssl x509 -req -in $tmp/leaf.csr -CA $tmp/ca.pem -CAkey $tmp/ca.key -CAcreateserial -days 3650 -extfile $tmp/ext -out $tmp/leaf.pem 2>/dev/null
rm -f $win/signed.exe
osslsigncode sign -certs $tmp/leaf.pem -ac $tmp/ca.pem -key $tmp/leaf.key -h sha256 -in $win/plain.exe -out $win/signed.exe >/dev/null
cp $win/signed.exe $win/signed-appended.exe
printf 'payload appended after the signed content' >> $win/signed-appended.exe
cp $win/signed.exe $win/signed-tampered.exe
printf '\314' | dd of=$win/signed-tampered.exe bs=1 seek=1536 conv=notrunc 2>/dev/null
wcc -o $win/wx-section.exe $src/wx-win.c 2>/dev/null

# Each build.d/*.sh builds the fixtures of more packs, with the same helpers and variables
# (src, packs, cc, wcc, and tmp, a scratch directory removed at the end).
for part in "$src"/build.d/*.sh; do
  [ -e "$part" ] || continue
  . "$part"
done
