#!/usr/bin/env python3
"""The library's modules include only the modules they declare.

    module_deps_test.py SOURCE_ROOT MODULE=DEP,DEP ... [--files MODULE=FILE,...]

Each MODULE is a folder of the source root (serde, core, statestore, ...);
its DEPs are the modules its meson.build links (declared once there and
passed here). Every #include "..." in a module's headers and sources that
lands in another module's folder must name a declared dependency (or one of
theirs, transitively). Fails listing each include that does not, so an
include cycle (a module reaching back into one that depends on it) cannot
come back unnoticed.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    root = os.path.abspath(sys.argv[1])
    declared = {}
    for arg in sys.argv[2:]:
        module, _, deps = arg.partition('=')
        declared[module] = {d for d in deps.split(',') if d}
    for m, deps in declared.items():
        for d in deps:
            if d not in declared:
                print(f'FAIL: module {m} declares {d}, which is not a module')
                return 1

    def reach(module, seen=None):
        seen = set() if seen is None else seen
        for d in declared[module]:
            if d not in seen:
                seen.add(d)
                reach(d, seen)
        return seen

    bad = []
    checked = 0
    for module in declared:
        allowed = reach(module) | {module}
        if module in reach(module):
            bad.append(f'{module}: depends on itself through {sorted(reach(module))}')
        for dirpath, _, files in os.walk(os.path.join(root, module)):
            for name in files:
                if not name.endswith(('.h', '.cc')):
                    continue
                path = os.path.join(dirpath, name)
                text = open(path, encoding='utf-8').read()
                for target in INCLUDE.findall(text):
                    resolved = os.path.normpath(os.path.join(dirpath, target))
                    if not os.path.exists(resolved):
                        resolved = os.path.normpath(os.path.join(root, target))
                    if not os.path.exists(resolved):
                        continue  # a generated header, or one of the system's
                    rel = os.path.relpath(resolved, root)
                    owner = rel.split(os.sep)[0]
                    checked += 1
                    if owner in declared and owner not in allowed:
                        bad.append(f'{os.path.relpath(path, root)}: includes {rel}, but {module} does not '
                                   f'depend on {owner}')
    if bad:
        print('FAIL: includes outside the declared module dependencies:')
        for b in bad:
            print('    ' + b)
        return 1
    print(f'ok: {checked} includes across {len(declared)} modules follow the declared dependencies')
    return 0


if __name__ == '__main__':
    sys.exit(main())
