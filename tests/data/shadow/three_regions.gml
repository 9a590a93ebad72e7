graph [
  directed 0
  node [
    id 0
    label "europe"
    host_bandwidth_up "100 Mbit"
    host_bandwidth_down "100 Mbit"
  ]
  node [
    id 1
    label "america"
    host_bandwidth_up "20 Mbit"
    host_bandwidth_down "50 Mbit"
  ]
  node [
    id 2
    label "asia"
    host_bandwidth_up "5 Mbit"
    host_bandwidth_down "10 Mbit"
  ]
  edge [
    source 0
    target 0
    latency "2 ms"
  ]
  edge [
    source 1
    target 1
    latency "2 ms"
  ]
  edge [
    source 2
    target 2
    latency "2 ms"
  ]
  edge [
    source 0
    target 1
    latency "40 ms"
    packet_loss 0.001
  ]
  edge [
    source 1
    target 2
    latency "90 ms"
    packet_loss 0.01
  ]
  edge [
    source 0
    target 2
    latency "120 ms"
    packet_loss 0.005
  ]
]
