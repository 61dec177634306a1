#!/bin/sh
# Runs inside the test guest (installed by image-boot-harness.ts through write_files, started
# in the background by runcmd): waits for cloud-init and the boot to finish, then writes a
# report into the inbox for the host to check (checkDiag).
out=/mnt/inbox/.imgtest-diag
exec >$out.tmp 2>&1
echo "== cloud-init status"; cloud-init status --wait --long
i=0; until systemd-analyze >/dev/null 2>&1 || [ $i -ge 90 ]; do sleep 1; i=$((i+1)); done
echo "== systemd-analyze"; systemd-analyze
echo "== systemd-analyze blame"; systemd-analyze blame | head -12
echo "== cloud-init analyze blame"; cloud-init analyze blame | head -30
echo "== findmnt"; for m in /mnt/global /mnt/inbox /tmp; do findmnt -no TARGET,SOURCE,FSTYPE,OPTIONS $m || echo "$m NOT MOUNTED"; done
echo "== fstab"; cat /etc/fstab
echo "== ids"; id agent; getent group 1000; ls -ldn /home/agent /mnt/inbox
echo "== agent writes inbox"; setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo hi > /mnt/inbox/agent-wrote' && stat -c "%u:%g" /mnt/inbox/agent-wrote
echo "== agent writes global (must be refused)"; setpriv --reuid=1000 --regid=1000 --clear-groups touch /mnt/global/agent-wrote && echo WROTE || echo refused
echo "== root remounts global rw and writes (must be refused by the host)"; mount -o remount,rw /mnt/global; touch /mnt/global/root-wrote && echo WROTE || echo refused
echo "== agent writes /tmp"; setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo x > /tmp/t && echo ok'
echo "== node"; node --version
echo "== net"; ip -4 -br addr; getent hosts deb.debian.org || echo no-dns
echo "== mem"; free -m
echo "== cloud-init.log problems"; grep -E "WARNING|ERROR|Traceback" /var/log/cloud-init.log | head -20
echo "== result.json"; cat /run/cloud-init/result.json
echo "== ssh host keys"; ls /etc/ssh/ | grep host_ || true
echo "== failed units"; systemctl --failed --no-legend
echo "== machine-id"; cat /etc/machine-id
mv -f $out.tmp $out
