// RUN: gatec-opt %s -split-input-file -verify-diagnostics


func.func @gate_last_dim(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %v: tensor<2x4x32x48xf32>, %g: tensor<2x4x16x64xf32>) -> tensor<2x4x16x48xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' must be elementwise [B,Hq,Sq,Dv] or headwise [B,Hq,Sq,1]}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<2x4x16x64xf32>) : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x48xf32> -> tensor<2x4x16x48xf32>
  return %0 : tensor<2x4x16x48xf32>
}


// -----

// Neither Dv nor 1, where Dv = D.
func.func @gate_last_dim_two(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %g: tensor<1x2x4x2xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{'gate.sdpa' op 'gate' must be elementwise [B,Hq,Sq,Dv] or headwise [B,Hq,Sq,1]}}
  %0 = gate.sdpa %q, %k, %v gate(%g : tensor<1x2x4x2xf32>) : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %0 : tensor<1x2x4x8xf32>
}
