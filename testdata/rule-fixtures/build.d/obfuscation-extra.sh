# Fixtures of the obfuscation, secrets and windows rules on encrypted code, TLS
# callbacks, overlays and side-loading proxies (sources in obfuscation-extra/).
ox=$src/obfuscation-extra
# 12 KiB of AES-CTR keystream under a fixed key: random-looking and reproducible.
openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null | head -c 12288 > $tmp/keystream.bin
cc -DPAYLOAD="\"$tmp/keystream.bin\"" -o $packs/obfuscation/testdata/encrypted-code.elf $ox/packed-code.c
wcc -DPAYLOAD="\"$tmp/keystream.bin\"" -o $packs/obfuscation/testdata/encrypted-code.exe $ox/packed-code.c
wcc -o $packs/windows/testdata/tls-many.exe $ox/tls-many.c
wcc -o $packs/windows/testdata/tls-stub.exe $ox/tls-stub.c
wcc -shared -o $packs/windows/testdata/version-proxy.dll $ox/proxy.c $ox/proxy.def
wcc -shared -o $packs/windows/testdata/plugin.dll $ox/plugin.c $ox/plugin.def
# A dropper shape: an executable with a second executable appended as its overlay; and
# look-alikes: an executable with appended settings text and a self-extracting archive
# shape (a zip appended).
cp $packs/windows/testdata/plain.exe $packs/windows/testdata/pe-in-overlay.exe
cat $packs/windows/testdata/tls-stub.exe >> $packs/windows/testdata/pe-in-overlay.exe
cp $packs/windows/testdata/plain.exe $packs/windows/testdata/settings-overlay.exe
printf '[settings]\nserver=update.example.com\nchannel=stable\nMZ and PE are the letters of the format\n' >> $packs/windows/testdata/settings-overlay.exe
