
set terminal pngcairo size 1200,620 font ",10" noenhanced
set output 'docs/perf/2026-12-08-plugins/with-mosquitto/chart.png'
set title "Junction vs Mosquitto (same run, medians): times better, >1 = Junction ahead"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set logscale y
set yrange [0.1:*]
set xrange [-0.6:1.6]
set grid ytics
set xtics rotate by -35
set key top right
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" dt 2
plot 'docs/perf/2026-12-08-plugins/with-mosquitto/chart.dat' using 2:xtic(1) title "Junction advantage" lc rgb "#2a7ab9", \
     '' using 0:3 with points pt 7 ps 1.5 lc rgb "#d62728" title "target"
