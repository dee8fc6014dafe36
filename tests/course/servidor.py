# Um servidor como o da disciplina: socket bloqueante, um recv(1024), sem
# fim de linha.  Usado pelos testes e pela lição de docs/teaching.md.
#
#   python servidor.py PORTA [normal|espera|resto]
#
# normal: recebe o nome com um recv(1024), responde e fecha.
# espera: espera 0,5 s antes do recv(1024) (os dois send() do cliente já
#         chegaram: um recv lê os dois).
# resto:  lê só 3 bytes e fecha com bytes ainda não lidos: o sistema manda
#         um reset (RST) em vez de um FIN.
# junta:  como espera, mas espera os 3 bytes chegarem (MSG_PEEK) em vez de
#         um tempo fixo (para os testes: nada depende da carga da máquina).
import socket
import sys
import time

porta = int(sys.argv[1])
modo = sys.argv[2] if len(sys.argv) > 2 else "normal"

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", porta))
s.listen(1)
print("escutando", s.getsockname()[1], flush=True)
conexao, endereco = s.accept()
if modo == "espera":
    time.sleep(0.5)
if modo == "junta":
    while len(conexao.recv(1024, socket.MSG_PEEK)) < 3:
        time.sleep(0.01)
if modo == "resto":
    nome = conexao.recv(3).decode()
    conexao.recv(1, socket.MSG_PEEK)  # Espera o resto chegar, sem lê-lo.
else:
    nome = conexao.recv(1024).decode()
print("recebi", repr(nome), flush=True)
if modo != "resto":
    conexao.send(("Olá, " + nome).encode())
conexao.close()
s.close()
