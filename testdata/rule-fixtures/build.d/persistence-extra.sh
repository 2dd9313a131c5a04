# Fixtures of the c2 pack: programs holding the strings the rules look for (an implant's
# hard-coded public-IP server, Cobalt Strike, Meterpreter and Sliver marks) and an
# ordinary client beside them. Sourced by build.sh (src, packs, cc, wcc, tmp).
c2=$packs/c2/testdata
cc -o $c2/ip-beacon.elf $src/persistence-extra/ip-beacon.c
cc -o $c2/name-client.elf $src/persistence-extra/name-client.c
wcc -o $c2/name-client.exe $src/persistence-extra/name-client.c
wcc -o $c2/cs-beacon.exe $src/persistence-extra/cs-beacon.c
cc -o $c2/meterpreter.elf $src/persistence-extra/meterpreter.c
cc -o $c2/sliver-strings.elf $src/persistence-extra/sliver-strings.c
