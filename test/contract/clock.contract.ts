import type { Clock } from '../../lib/core/ports/clock';

/** The Clock contract: "now" as a Date the caller may keep and change without changing the clock. */
export function clockContract(name: string, make: () => Clock, expectNow: () => number, toleranceMs: number) {
  describe(`${name} (Clock contract)`, () => {
    it('tells the time it stands for', () => {
      expect(Math.abs(make().now().getTime() - expectNow())).toBeLessThanOrEqual(toleranceMs);
    });

    it('hands out a fresh Date each time: changing one does not change the clock', () => {
      const clock = make();
      const a = clock.now();
      a.setUTCFullYear(1999);
      expect(clock.now().getUTCFullYear()).not.toBe(1999);
      expect(clock.now()).not.toBe(clock.now());
    });
  });
}
