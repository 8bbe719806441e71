"""The parameters of ``vla_inference`` (docs/distributed.md's table is generated from them)."""

from __future__ import annotations

from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

S, I, D, B = ParamType.STRING, ParamType.INTEGER, ParamType.DOUBLE, ParamType.BOOL
SA = ParamType.STRING_ARRAY

BACKENDS = ('local', 'ray')  # who runs the policy: this process, or a Ray Serve deployment

_TABLE = (
    spec('bundle', S, '', "policy bundle directory ('' = the package's default bundle)"),
    spec('backend', S, 'local', "'local': run the bundle in this process (batching with "
         "batch_window_ms / max_batch); 'ray': a gateway to the Ray Serve deployment of the "
         'bundle at ray.address (`vla-ros serve head`; replicas, batching and restarts are '
         "Ray's)", choices=BACKENDS),
    spec('ray.address', S, '', "the Ray cluster's head, HOST:PORT ('' = the cluster this host "
         "belongs to, Ray's 'auto'); backend ray only"),
    spec('ray.app', S, 'vla_policy', 'the Serve application of the bundle; backend ray only'),
    spec('ray.request_timeout_s', D, 2.0, 'a request to Ray Serve unanswered this long is '
         'dropped (the robot holds by its own chunk-age rule) [s]', range=(0.01, 600.0)),
    spec('robots', SA, [''], "namespaces of the robots served, e.g. ['/robot1', '/robot2'] "
         "('' = this node's namespace)"),
    spec('batch_window_ms', D, 5.0, 'after the first request, wait at most this long for more '
         'to run them as one batch (a batch closes early once every robot has one) [ms]',
         range=(0.0, 1000.0)),
    spec('max_batch', I, 8, 'most frames in one run (1 = one frame at a time)',
         range=(1, 1024)),
    spec('providers', SA, ['CPUExecutionProvider'], 'onnxruntime execution providers, in order '
         "(e.g. ['CUDAExecutionProvider'] on a GPU server)"),
    spec('intra_op_threads', I, 0, 'onnxruntime intra-op threads (0 = onnxruntime picks: a '
         'server has no control loop to leave a core to)', range=(0, 256)),
    spec('onnxruntime.allow_spinning', B, True, 'intra-op threads spin-wait between operators '
         '(throughput; a server has no control thread to leave the CPU to)'),
    spec('diagnostics_period_s', D, 1.0, 'period of /diagnostics [s]', range=(0.01, 3600.0)),
)
INFERENCE_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
