"""TAP helpers for xclone's Python tests (standard library only).

    from tap import Tap
    t = Tap()
    t.ok(cond, "name")
    t.eq(got, want, "name")
    sys.exit(t.done())
"""
import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(f"{'' if cond else 'not '}ok {self.n} - {name}")
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines():
                    print(f"#   {line}")
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got:  {got!r}\nwant: {want!r}")

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0
