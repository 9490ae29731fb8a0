// A gated GQA attention kernel with a dynamic batch and sequence length.
func.func @attention(%q: tensor<?x4x?x32xf32> {gatec.name = "query", gatec.dims = ["batch", "", "seq", ""]},
                     %k: tensor<?x2x?x32xf32> {gatec.name = "key", gatec.dims = ["batch", "", "seq", ""]},
                     %v: tensor<?x2x?x32xf32> {gatec.name = "value", gatec.dims = ["batch", "", "seq", ""]},
                     %g: tensor<?x4x?x1xf32> {gatec.name = "gate", gatec.dims = ["batch", "", "seq", ""]})
    -> (tensor<?x4x?x32xf32> {gatec.name = "output"}) {
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<?x4x?x1xf32>) {causal}
      : tensor<?x4x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32> -> tensor<?x4x?x32xf32>
  return %0 : tensor<?x4x?x32xf32>
}
