export interface LeastSquaresFit {
  slope: number;
  /**
   * Standard error of the slope: how far the scatter around the line lets the slope move. A
   * slope within one or two of these of the threshold is a coin toss, not a verdict.
   */
  slopeStandardError: number;
}

/** Least-squares line through (x, y); slope 0 for fewer than two distinct x. */
export function leastSquaresFit(points: ReadonlyArray<{ x: number; y: number }>): LeastSquaresFit {
  const count = points.length;
  if (count < 2) return { slope: 0, slopeStandardError: 0 };
  let sumX = 0;
  let sumY = 0;
  for (const { x, y } of points) {
    sumX += x;
    sumY += y;
  }
  const meanX = sumX / count;
  const meanY = sumY / count;
  let covariance = 0;
  let varianceX = 0;
  for (const { x, y } of points) {
    covariance += (x - meanX) * (y - meanY);
    varianceX += (x - meanX) ** 2;
  }
  if (varianceX === 0) return { slope: 0, slopeStandardError: 0 };
  const slope = covariance / varianceX;
  if (count < 3) return { slope, slopeStandardError: 0 };
  let squaredResiduals = 0;
  for (const { x, y } of points) squaredResiduals += (y - meanY - slope * (x - meanX)) ** 2;
  return { slope, slopeStandardError: Math.sqrt(squaredResiduals / (count - 2) / varianceX) };
}

/** Slope of the least-squares line through (x, y); 0 for fewer than two distinct x. */
export function leastSquaresSlope(points: ReadonlyArray<{ x: number; y: number }>): number {
  return leastSquaresFit(points).slope;
}
