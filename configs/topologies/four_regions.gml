graph [
  directed 0
  node [
    id 0
    label "europe"
    host_bandwidth_up "100 Mbit"
    host_bandwidth_down "200 Mbit"
  ]
  node [
    id 1
    label "north-america"
    host_bandwidth_up "100 Mbit"
    host_bandwidth_down "200 Mbit"
  ]
  node [
    id 2
    label "asia"
    host_bandwidth_up "50 Mbit"
    host_bandwidth_down "100 Mbit"
  ]
  node [
    id 3
    label "oceania"
    host_bandwidth_up "20 Mbit"
    host_bandwidth_down "50 Mbit"
  ]
  edge [
    source 0
    target 0
    latency "5 ms"
  ]
  edge [
    source 1
    target 1
    latency "5 ms"
  ]
  edge [
    source 2
    target 2
    latency "5 ms"
  ]
  edge [
    source 3
    target 3
    latency "5 ms"
  ]
  edge [
    source 0
    target 1
    latency "40 ms"
    packet_loss 0.001
  ]
  edge [
    source 0
    target 2
    latency "120 ms"
    packet_loss 0.005
  ]
  edge [
    source 1
    target 2
    latency "90 ms"
    packet_loss 0.005
  ]
  edge [
    source 1
    target 3
    latency "80 ms"
    packet_loss 0.005
  ]
  edge [
    source 2
    target 3
    latency "60 ms"
    packet_loss 0.005
  ]
  edge [
    source 0
    target 3
    latency "150 ms"
    packet_loss 0.01
  ]
]
