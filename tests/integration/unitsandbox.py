#!/usr/bin/python3
"""unitsandbox.py - run a command under the sandbox a systemd unit file
asks for, without systemd (the tests' machines have no systemd as PID 1,
so systemd-run cannot start the packaged unit). As root.

Usage: unitsandbox.py UNIT -- COMMAND [ARG...]

From the [Service] section of UNIT it applies, in this order, and then
execs COMMAND (its PID is the sandboxed process's):
  a private mount namespace (unshare(CLONE_NEWNS), propagation private)
  RuntimeDirectory= / StateDirectory=   made as systemd makes them
                             (/run/NAME, /var/lib/NAME; mode from
                             ...DirectoryMode=, owned by User/Group);
                             /run/NAME is left behind: the caller removes
                             it, as systemd does when the service stops
  PrivateDevices=yes         a new /dev (tmpfs) with null, zero, full,
                             random, urandom and tty only
  ProtectProc= / ProcSubset= a new /proc with hidepid= and subset=pid
  ProtectKernelTunables=yes  /sys and /proc/sys (and the like) read-only
  ProtectControlGroups=yes   /sys/fs/cgroup read-only
  ProtectKernelModules=yes   /lib/modules, /usr/lib/modules hidden
  ProtectKernelLogs=yes      /proc/kmsg, /dev/kmsg hidden
  PrivateTmp=yes             new empty /tmp and /var/tmp
  ProtectHome=yes            /home, /root, /run/user empty and mode 000
  ProtectSystem=strict       every mount read-only (per mount point: a
                             bind remount, which the host never sees) but
                             /proc, /sys, /dev and the writable paths:
  ReadWritePaths=            ("-" prefix: ignored when missing), the
                             runtime and state directories: writable
  ProtectHostname=yes        a UTS namespace of its own
  PrivateUsers=yes           a user namespace: root and the service's user
                             and group mapped to themselves, all others
                             appear as nobody (a helper writes the maps)
  CapabilityBoundingSet=     empty: every capability dropped from the
                             bounding set (other values are refused)
  User= / Group=             setgroups([Group]), setgid, setuid
  NoNewPrivileges=yes        prctl(PR_SET_NO_NEW_PRIVS)
  UMask=                     umask
  RestrictAddressFamilies=   socket(2) with another family: EAFNOSUPPORT
  MemoryDenyWriteExecute=yes mmap(2) with PROT_WRITE|PROT_EXEC, mprotect(2)
                             and pkey_mprotect(2) with PROT_EXEC, shmat(2)
                             with SHM_EXEC: EPERM
  RestrictNamespaces=yes     clone(2) and unshare(2) with a CLONE_NEW* flag,
                             setns(2): EPERM; clone3(2): ENOSYS (as systemd
                             does, so that the C library falls back to clone)
  ProtectHostname, ProtectClock, ProtectKernelModules/Logs, LockPersonality
  (personality(2) other than PER_LINUX), RestrictRealtime (FIFO, RR,
  DEADLINE), RestrictSUIDSGID (chmod and O_CREAT with set-id bits): the
                             system calls systemd refuses for them: EPERM
  SystemCallFilter=          a seccomp filter as systemd builds it: allow
                             lists (groups expanded with "systemd-analyze
                             syscall-filter"), "~" deny lists, lines
                             combined in order; SystemCallErrorNumber= is
                             the errno of a refused call (without it the
                             process is killed, as with systemd)
Each seccomp option is its own filter, as systemd loads them; the kernel
runs them all and the strictest answer wins. Options it does not apply are
listed on stderr ("unitsandbox: not applied: ..."), never silently taken
as done. Needs python3-seccomp (libseccomp's bindings).
"""

import ctypes
import errno
import grp
import os
import pwd
import socket
import subprocess
import sys

import seccomp

APPLIED = {"User", "Group", "CapabilityBoundingSet", "NoNewPrivileges",
           "UMask", "SystemCallFilter", "SystemCallErrorNumber",
           "RestrictAddressFamilies", "MemoryDenyWriteExecute",
           "RestrictNamespaces", "RuntimeDirectory", "RuntimeDirectoryMode",
           "StateDirectory", "StateDirectoryMode", "PrivateDevices",
           "PrivateTmp", "ProtectHome", "ProtectSystem", "ReadWritePaths",
           "PrivateMounts", "AmbientCapabilities", "ProtectProc",
           "ProcSubset", "ProtectKernelTunables", "ProtectControlGroups",
           "ProtectKernelModules", "ProtectKernelLogs", "ProtectClock",
           "ProtectHostname", "LockPersonality", "RestrictRealtime",
           "RestrictSUIDSGID", "PrivateUsers"}
# not about the sandbox of the process
ELSEWHERE = {"Type", "ExecStart", "ExecStartPre", "ExecReload",
             "TimeoutStopSec", "Restart", "SystemCallArchitectures"}
YES = ("yes", "true", "1", "on")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWUTS = 0x04000000
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PROT_WRITE, PROT_EXEC = 0x2, 0x4
SHM_EXEC = 0o100000
S_ISUID, S_ISGID = 0o4000, 0o2000
O_CREAT = 0o100
CLONE_NEW = {"cgroup": 0x02000000, "ipc": 0x08000000, "mnt": 0x00020000,
             "net": 0x40000000, "pid": 0x20000000, "user": 0x10000000,
             "uts": 0x04000000}


def parse_unit(path):
    """[Service] settings: name -> list of values, in order"""
    out, section = {}, None
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]" or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def expand(name, seen=None):
    """the system calls of a systemd group (@name) or one call"""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    text = subprocess.run(["systemd-analyze", "syscall-filter", name],
                          check=True, capture_output=True, text=True).stdout
    calls = set()
    for line in text.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        calls |= expand(item, seen)
    return calls


def syscall_filter(lines, errno_name):
    """the final allowed set (None: no allow list) and denied set"""
    allow, deny = None, set()
    for value in lines:
        if value == "":
            allow, deny = None, set()
            continue
        neg = value.startswith("~")
        names = set()
        for word in value.lstrip("~").split():
            names |= expand(word)
        if neg:
            if allow is None:
                deny |= names
            else:
                allow -= names
        else:
            allow = names if allow is None else allow | names
            deny -= names
    return allow, deny


def known(name):
    try:
        seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
        return True
    except (ValueError, RuntimeError):
        return False


def sysmount(libc, src, target, fstype, flags, data=None):
    enc = lambda x: x.encode() if isinstance(x, str) else x
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount %s: %s" % (target, os.strerror(e)))


def mounts():
    """(mount point, per-mount flags) of this namespace, parents first"""
    out = []
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        mp = f[4].replace("\\040", " ")
        opts = f[5].split(",")
        flags = 0
        for name, bit in (("nosuid", MS_NOSUID), ("nodev", MS_NODEV),
                          ("noexec", MS_NOEXEC)):
            if name in opts:
                flags |= bit
        out.append((mp, flags))
    return sorted(set(out), key=lambda m: m[0].count("/"))


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def read_only(libc, path):
    """path and every mount below it read-only (this namespace only)"""
    subs = [(mp, fl) for mp, fl in mounts() if under(mp, path)]
    if not any(mp == path for mp, _ in subs):
        sysmount(libc, path, path, None, MS_BIND)
        subs = [(mp, fl) for mp, fl in mounts() if under(mp, path)]
    for mp, flags in subs:
        sysmount(libc, None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def private_users(libc, uid, gid):
    """PrivateUsers=yes: a user namespace in which root and the service's
    user and group are mapped to themselves, everyone else is nobody. A
    helper in the parent namespace writes the maps, as systemd does."""
    r, w = os.pipe()
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(w)
        os.read(r, 1)
        try:
            for name, ident in (("uid_map", uid), ("gid_map", gid)):
                lines = "0 0 1\n" + ("%d %d 1\n" % (ident, ident) if ident else "")
                with open("/proc/%d/%s" % (parent, name), "w") as f:
                    f.write(lines)
        except OSError as e:
            print("unitsandbox: PrivateUsers: %s" % e, file=sys.stderr)
            os._exit(1)
        os._exit(0)
    os.close(r)
    if libc.unshare(CLONE_NEWUSER) != 0:
        sys.exit("unitsandbox: unshare(CLONE_NEWUSER): %s"
                 % os.strerror(ctypes.get_errno()))
    os.write(w, b"x")
    os.close(w)
    _, status = os.waitpid(child, 0)
    if status != 0:
        sys.exit("unitsandbox: PrivateUsers: could not write the id maps")


def file_system(libc, last, cfg, uid, gid):
    """the mount namespace and what the unit asks of it"""
    if libc.unshare(CLONE_NEWNS) != 0:
        sys.exit("unitsandbox: unshare(CLONE_NEWNS): %s"
                 % os.strerror(ctypes.get_errno()))
    sysmount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    writable = []
    for key, base in (("RuntimeDirectory", "/run"), ("StateDirectory", "/var/lib")):
        for name in " ".join(cfg.get(key, [])).split():
            d = os.path.join(base, name)
            os.makedirs(d, exist_ok=True)
            os.chmod(d, int(last.get(key + "Mode", "0755"), 8))
            os.chown(d, uid, gid)
            writable.append(d)
    for value in cfg.get("ReadWritePaths", []):
        for p in value.split():
            optional = p.startswith("-")
            p = p.lstrip("-+")
            if os.path.exists(p):
                writable.append(p)
            elif not optional:
                sys.exit("unitsandbox: ReadWritePaths=%s does not exist" % p)
    if last.get("PrivateDevices", "no") in YES:
        host = "/run/unitsandbox-dev.%d" % os.getpid()
        os.mkdir(host, 0o700)
        sysmount(libc, "/dev", host, None, MS_BIND)
        sysmount(libc, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755")
        for n in DEVICES:
            open("/dev/" + n, "w").close()
            sysmount(libc, host + "/" + n, "/dev/" + n, None, MS_BIND)
        libc.umount2(host.encode(), 2)      # MNT_DETACH
        os.rmdir(host)
    if last.get("PrivateTmp", "no") in YES:
        for d in ("/tmp", "/var/tmp"):
            sysmount(libc, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if last.get("ProtectHome", "no") in YES:
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                sysmount(libc, "tmpfs", d, "tmpfs",
                         MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000")
                sysmount(libc, None, d, None,
                         MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if last.get("ProtectProc", "default") != "default" or \
            last.get("ProcSubset", "all") != "all":
        opts = []
        if last.get("ProtectProc", "default") != "default":
            opts.append("hidepid=" + last["ProtectProc"])
        if last.get("ProcSubset", "all") == "pid":
            opts.append("subset=pid")
        sysmount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 ",".join(opts))
    ro = []
    if last.get("ProtectKernelTunables", "no") in YES:
        ro += ["/sys", "/proc/sys", "/proc/sysrq-trigger", "/proc/latency_stats",
               "/proc/acpi", "/proc/apm", "/proc/asound", "/proc/bus",
               "/proc/fs", "/proc/irq", "/proc/timer_stats", "/proc/mtrr"]
    if last.get("ProtectControlGroups", "no") in YES:
        ro += ["/sys/fs/cgroup"]
    for path in ro:
        if os.path.exists(path):
            read_only(libc, path)
    hide = []
    if last.get("ProtectKernelModules", "no") in YES:
        hide += ["/lib/modules", "/usr/lib/modules"]
    if last.get("ProtectKernelLogs", "no") in YES:
        hide += ["/proc/kmsg", "/dev/kmsg"]
    for path in hide:
        if os.path.isdir(path) and not os.path.islink(path):
            sysmount(libc, "tmpfs", path, "tmpfs",
                     MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=000")
        elif os.path.exists(path) and not os.path.islink(path):
            sysmount(libc, "/dev/null", path, None, MS_BIND)
            sysmount(libc, None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    ps = last.get("ProtectSystem", "no")
    if ps == "strict":
        for mp, flags in mounts():
            if any(under(mp, t) for t in ("/proc", "/sys", "/dev")):
                continue
            if last.get("PrivateTmp", "no") in YES and \
                    any(under(mp, t) for t in ("/tmp", "/var/tmp")):
                continue
            sysmount(libc, None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        for d in writable:
            sysmount(libc, d, d, None, MS_BIND)
            sysmount(libc, None, d, None, MS_REMOUNT | MS_BIND)
    elif ps not in ("no", "false", "0", "off"):
        print("unitsandbox: not applied: ProtectSystem=%s (only strict)" % ps,
              file=sys.stderr)


def main():
    argv = sys.argv[1:]
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: unitsandbox.py UNIT -- COMMAND [ARG...]")
    unit, cmd = argv[0], argv[2:]
    cfg = parse_unit(unit)
    last = {k: v[-1] for k, v in cfg.items()}
    for k in sorted(set(cfg) - APPLIED - ELSEWHERE):
        print("unitsandbox: not applied: %s=%s" % (k, last[k]), file=sys.stderr)
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if "User" in last:
        pw = pwd.getpwnam(last["User"])
        uid = pw.pw_uid
        gid = grp.getgrnam(last["Group"]).gr_gid if "Group" in last else pw.pw_gid
    file_system(libc, last, cfg, uid, gid)

    if last.get("ProtectHostname", "no") in YES:
        if libc.unshare(CLONE_NEWUTS) != 0:
            sys.exit("unitsandbox: unshare(CLONE_NEWUTS): %s"
                     % os.strerror(ctypes.get_errno()))
    if last.get("PrivateUsers", "no") in YES:
        private_users(libc, uid, gid)

    # no capability left in the bounding set (while still root), the user
    if "CapabilityBoundingSet" in cfg:
        if last["CapabilityBoundingSet"].split():
            sys.exit("unitsandbox: only an empty CapabilityBoundingSet= is supported")
        for cap in range(64):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                if ctypes.get_errno() == errno.EINVAL:
                    break       # past the last capability
                sys.exit("unitsandbox: PR_CAPBSET_DROP %d: %s"
                         % (cap, os.strerror(ctypes.get_errno())))
    if "User" in last:
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(uid)
    if last.get("NoNewPrivileges", "no") in YES:
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            sys.exit("unitsandbox: PR_SET_NO_NEW_PRIVS failed")
    if "UMask" in last:
        os.umask(int(last["UMask"], 8))

    # seccomp: one filter per option, as systemd loads them
    families = last.get("RestrictAddressFamilies")
    if families:
        ok = {getattr(socket, fam) for fam in families.split()}
        g = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for fam in range(64):
            if fam not in ok:
                g.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                           seccomp.Arg(0, seccomp.EQ, fam))
        g.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                   seccomp.Arg(0, seccomp.GE, 64))
        g.load()

    if last.get("MemoryDenyWriteExecute", "no") in YES:
        h = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        wx = PROT_WRITE | PROT_EXEC
        h.add_rule(seccomp.ERRNO(errno.EPERM), "mmap",
                   seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
        for call in ("mprotect", "pkey_mprotect"):
            if known(call):
                h.add_rule(seccomp.ERRNO(errno.EPERM), call,
                           seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        if known("shmat"):
            h.add_rule(seccomp.ERRNO(errno.EPERM), "shmat",
                       seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
        h.load()

    if last.get("RestrictNamespaces", "no") in YES:
        n = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for flag in CLONE_NEW.values():
            for call in ("clone", "unshare"):
                n.add_rule(seccomp.ERRNO(errno.EPERM), call,
                           seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        n.add_rule(seccomp.ERRNO(errno.EPERM), "setns")
        if known("clone3"):
            n.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        n.load()
    elif last.get("RestrictNamespaces", "no") not in ("no", "false", "0", "off"):
        print("unitsandbox: not applied: RestrictNamespaces=%s"
              % last["RestrictNamespaces"], file=sys.stderr)

    # the seccomp parts of other options (systemd adds them the same way)
    x = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    extra = []
    if last.get("ProtectHostname", "no") in YES:
        extra += ["sethostname", "setdomainname"]
    if last.get("ProtectClock", "no") in YES:
        extra += sorted(expand("@clock"))
    if last.get("ProtectKernelModules", "no") in YES:
        extra += sorted(expand("@module"))
    if last.get("ProtectKernelLogs", "no") in YES:
        extra += ["syslog"]
    for name in extra:
        if known(name):
            try:
                x.add_rule(eperm, name)
            except RuntimeError:
                pass
    if last.get("LockPersonality", "no") in YES:
        # as systemd: only the current personality (PER_LINUX)
        x.add_rule(eperm, "personality", seccomp.Arg(0, seccomp.NE, 0))
    if last.get("RestrictRealtime", "no") in YES:
        for policy in (1, 2, 6):    # SCHED_FIFO, SCHED_RR, SCHED_DEADLINE
            x.add_rule(eperm, "sched_setscheduler", seccomp.Arg(1, seccomp.EQ, policy))
    if last.get("RestrictSUIDSGID", "no") in YES:
        for bit in (S_ISUID, S_ISGID):
            x.add_rule(eperm, "chmod", seccomp.Arg(1, seccomp.MASKED_EQ, bit, bit))
            x.add_rule(eperm, "fchmod", seccomp.Arg(1, seccomp.MASKED_EQ, bit, bit))
            x.add_rule(eperm, "fchmodat", seccomp.Arg(2, seccomp.MASKED_EQ, bit, bit))
            x.add_rule(eperm, "open", seccomp.Arg(1, seccomp.MASKED_EQ, O_CREAT, O_CREAT),
                       seccomp.Arg(2, seccomp.MASKED_EQ, bit, bit))
            x.add_rule(eperm, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, O_CREAT, O_CREAT),
                       seccomp.Arg(3, seccomp.MASKED_EQ, bit, bit))
            x.add_rule(eperm, "creat", seccomp.Arg(1, seccomp.MASKED_EQ, bit, bit))
    x.load()

    # the system call filter last: it refuses seccomp(2) itself. The kernel
    # runs every filter loaded; the strictest answer wins.
    err_name = last.get("SystemCallErrorNumber")
    refuse = seccomp.ERRNO(getattr(errno, err_name)) if err_name else seccomp.KILL_PROCESS
    allow, deny = syscall_filter(cfg.get("SystemCallFilter", []), err_name)
    if allow is not None:
        f = seccomp.SyscallFilter(defaction=refuse)
        for name in sorted(n for n in allow if known(n)):
            try:
                f.add_rule(seccomp.ALLOW, name)
            except RuntimeError:
                pass            # a name of another architecture

    else:
        f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in sorted(n for n in deny if known(n)):
            try:
                f.add_rule(refuse, name)
            except RuntimeError:
                pass
    f.load()

    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
