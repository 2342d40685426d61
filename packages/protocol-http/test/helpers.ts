// Driver-test helpers come from core's kit for plugin authors; the names stay what these tests use.
export {
  createJob as makeJob,
  probeWith as probed,
  readSource as readAll,
  rejectionOf as rejection,
  rangeRequest as rangeOf,
} from '@multiget/core/testing';
