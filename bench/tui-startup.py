#!/usr/bin/env python3
"""Startup of the TUI: time from exec to the first paint of the main menu,
and resident memory while the menu shows.

fanout runs in a pseudo-terminal of 80x24 (TERM=xterm-256color); the clock
starts just before the fork and stops when the menu's last item ("Quit")
has been read from the terminal; VmRSS is read from /proc/PID/status
and the on-CPU and run-queue times from /proc/PID/schedstat while the
menu is on screen; then q is sent and the exit awaited.

usage: bench/tui-startup.py [FANOUT] [RUNS]   (defaults: ./fanout, 20)
"""
import fcntl, os, pty, select, struct, sys, termios, time

def once(fanout, env):
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(fanout, [fanout], env)
    seen = b""
    while b"Quit" not in seen:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            raise SystemExit("no menu after 5 s; screen so far: %r" % seen)
        seen += os.read(fd, 65536)
    painted = time.monotonic() - t0
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    # On-CPU and run-queue wait time so far (ns), from the scheduler:
    # what the paint cost, and how long it waited for a CPU.
    with open("/proc/%d/schedstat" % pid) as f:
        oncpu, waited = (int(x) / 1e6 for x in f.read().split()[:2])
    os.write(fd, b"q")
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    if status != 0:
        raise SystemExit("fanout exited with status %d" % status)
    return painted, rss, oncpu, waited

def version(fanout, env):
    """fork to exit of `fanout --version`: process start and dynamic
    loading, which every command pays, for comparison."""
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(fanout, [fanout, "--version"], env)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return (time.monotonic() - t0) * 1000

def main():
    fanout = sys.argv[1] if len(sys.argv) > 1 else "./fanout"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    env = dict(os.environ, TERM="xterm-256color", LINES="24", COLUMNS="80")
    env.pop("NO_COLOR", None)
    times, rss, cpu, wait = [], [], [], []
    for _ in range(runs):
        t, r, c, w = once(fanout, env)
        times.append(t * 1000)
        rss.append(r / 1024)
        cpu.append(c)
        wait.append(w)
    cpu.sort()
    wait.sort()
    times.sort()
    base = sorted(version(fanout, env) for _ in range(runs))
    print("first paint: median %.1f ms, max %.1f ms over %d runs"
          % (times[len(times) // 2], times[-1], runs))
    print("of which on a CPU: median %.1f ms, max %.1f ms; waiting for a "
          "CPU: median %.1f ms" % (cpu[len(cpu) // 2], cpu[-1],
          wait[len(wait) // 2]))
    print("for comparison, fanout --version (start, load, exit): median "
          "%.1f ms" % base[len(base) // 2])
    print("load average: %s" % open("/proc/loadavg").read().split()[0])
    print("resident memory (VmRSS) at the menu: median %.1f MB, max %.1f MB"
          % (sorted(rss)[len(rss) // 2], max(rss)))

main()
