#!/usr/bin/env python3
"""Instructions per request, counted by callgrind (repeatable on a noisy machine, unlike time),
of the shop built before and after device cookies and the per-client connection cap.

    BEFORE=.../guest_checkout AFTER=.../guest_checkout python3 bench/lockout_instructions.py

Each binary runs under `valgrind --tool=callgrind`; for each scenario the counters are zeroed
(`callgrind_control -z`), N requests are sent from one keep-alive connection (or a new one each),
the counters dumped (`callgrind_control -d`), and the instructions divided by N. Needs valgrind.
"""
import glob, http.client, json, os, re, subprocess, sys, tempfile, time, urllib.parse

PORT = 3997
N = int(os.environ.get("N", "300"))


def start(binary, workdir):
    env = dict(os.environ, PORT=str(PORT), AUTH_URL=f"http://127.0.0.1:{PORT}/api/auth",
               AUTH_SECRET="bench-secret-0123456789abcdef0123", DATABASE_URL=f"{workdir}/shop.db",
               SHOP_CLEANUP_SECS="off", AUTH_GUEST_LIMIT_PER_HOUR="off",
               AUTH_GUEST_GLOBAL_PER_HOUR="off", RUST_LOG="warn")
    out = f"{workdir}/callgrind.out"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/api/auth/csrf")
            c.getresponse().read()
            return proc, out
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


class Browser:
    def __init__(self):
        self.jar = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def send(self, method, path, body=None, close=False):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if close:
            headers["Connection"] = "close"
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        else:
            conn = self.conn
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        for line in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            value = rest.split(";")[0]
            if value and "Max-Age=0" not in line:
                self.jar[name] = value
            else:
                self.jar.pop(name, None)
        if close:
            conn.close()
        return response.status, data

    def csrf(self):
        return json.loads(self.send("GET", "/api/auth/csrf")[1])["csrfToken"]


def counted(pid, out, workload, keep=None):
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, stdout=subprocess.DEVNULL)
    workload()
    for old in glob.glob(out + ".*"):
        os.remove(old)
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    dumps = sorted(glob.glob(out + ".*"), key=os.path.getmtime)
    text = open(dumps[-1]).read()
    if keep:
        # Kept for `callgrind_annotate --inclusive=yes <dump>`: where the instructions went.
        os.replace(dumps[-1], keep)
    return int(re.search(r"^summary: (\d+)", text, re.M).group(1))


def measure(binary):
    workdir = tempfile.mkdtemp(prefix="bench-instr-")
    print(f"# {binary}: callgrind dumps in {workdir}", file=sys.stderr)
    proc, out = start(binary, workdir)
    results = {}
    try:
        right = "username=alice&password=alice-password&json=true"
        fresh = Browser()
        token = fresh.csrf()
        form = f"csrfToken={token}&{right}"

        def sign_ins(browser):
            for _ in range(N):
                status, _ = browser.send("POST", "/api/auth/callback/password", form)
                assert status == 200, status

        # Without a device cookie: every sign-in is an unknown browser's.
        unknown = Browser()
        unknown.jar = {k: v for k, v in fresh.jar.items()}
        csrf_only = dict(unknown.jar)

        def unknown_sign_ins():
            for _ in range(N):
                unknown.jar = dict(csrf_only)
                status, _ = unknown.send("POST", "/api/auth/callback/password", form)
                assert status == 200, status

        results["signin"] = counted(proc.pid, out, unknown_sign_ins, f"{workdir}/signin.out") / N
        # With one: the browser signed in before (after: its device cookie is read and renewed).
        known = Browser()
        known.jar = dict(csrf_only)
        known.send("POST", "/api/auth/callback/password", form)
        device = {k: v for k, v in known.jar.items() if k.endswith(".device")}

        def known_sign_ins():
            for _ in range(N):
                known.jar = dict(csrf_only, **device)
                status, _ = known.send("POST", "/api/auth/callback/password", form)
                assert status == 200, status

        results["signin+device"] = counted(proc.pid, out, known_sign_ins, f"{workdir}/signin+device.out") / N
        reader = Browser()
        reader.jar = dict(known.jar)

        def reads(close):
            def run():
                for _ in range(N * 4 if not close else N):
                    status, _ = reader.send("GET", "/api/auth/session", close=close)
                    assert status == 200, status
            return run

        results["session"] = counted(proc.pid, out, reads(False)) / (N * 4)
        results["session-close"] = counted(proc.pid, out, reads(True)) / N
        results["device-cookie"] = "yes" if device else "no"
    finally:
        proc.terminate()
        proc.wait()
    return results


before = measure(os.environ["BEFORE"])
after = measure(os.environ["AFTER"])
for scenario in ["signin", "signin+device", "session", "session-close"]:
    b, a = before[scenario], after[scenario]
    print(f"{scenario:14} instructions/request before {b:12,.0f} after {a:12,.0f}  after/before {a / b:.3f}")
print(f"device cookie issued: before {before['device-cookie']}, after {after['device-cookie']}")
