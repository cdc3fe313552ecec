/**
 * The k-th smallest (from 0) of `a` in the order `a.sort()` gives strings, without sorting all
 * of them (quickselect, linear on average). Reorders `a`; `k` must be within it.
 */
export function kthSmallest(a: string[], k: number): string {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
