"""What the synthetic callees say: template pools per kind and language, names, and voices.

Templates, names and voice variants are split between train and test by position (every
fourth template and voice, every third name go to test), so the held-out split hears texts
and voices that training never saw. The known recordings (fingerprinted) are separate.
"""

from __future__ import annotations

HUMAN_SHORT = {
    "ru": ["Алло?", "Да?", "Да, слушаю.", "Слушаю.", "Алло, говорите.", "Да, алло.", "Алё?",
           "Слушаю вас.", "Да, кто это?", "Алло, кто это?", "Ну, говорите.", "Алло, да?",
           "Кто это?", "Добрый день.", "Здравствуйте.", "Да, я слушаю."],
    "en": ["Hello?", "Yes?", "Hi.", "Hello.", "Yeah?", "Hello, who is this?", "Hi there.",
           "Yes, hello?", "Speaking.", "Hey.", "Good morning.", "Hello, yes?", "Who's calling?",
           "Yep?", "Hi, who's this?", "Hello there."],
}
HUMAN_LONG = {
    "ru": ["Алло, добрый день, {name} слушает.", "Да, здравствуйте, я вас слушаю.",
           "Алло, это {name}, а кто звонит?", "Да, говорите, я вас слушаю.",
           "Добрый вечер, {name} у телефона.", "Алло, да, я на связи, говорите.",
           "Компания {company}, {name}, здравствуйте.", "Алло, слушаю вас, говорите громче.",
           "Здравствуйте, {name}, слушаю вас.", "Да, алло, кто это звонит?",
           "Алло, {name} на проводе.", "Добрый день, чем могу помочь?"],
    "en": ["Hello, this is {name} speaking.", "Hi, {name} here, who's calling?",
           "Good afternoon, {name} speaking.", "Hello, you've got {name}.",
           "Yes, hello, this is {name}.", "Hey, it's {name}, what's up?",
           "{company}, this is {name}, how can I help?", "Hello? Sorry, who is this?",
           "Hi, this is {name}, go ahead.", "Hello, {name} speaking, can I help you?",
           "Yes, {name} here, hello?", "Good morning, how can I help you?"],
}
HUMAN_AGAIN = {
    "ru": ["Алло?", "Алло, вас не слышно.", "Говорите.", "Алло, кто это?", "Не слышно вас."],
    "en": ["Hello?", "Hello, anyone there?", "I can't hear you.", "Hello? Who is this?", "Hello-o?"],
}
VOICEMAIL = {
    "ru": ["Здравствуйте, вы позвонили {name}. Сейчас я не могу ответить, оставьте сообщение после сигнала.",
           "Привет, это {name}. Я сейчас занят, оставьте сообщение, и я вам перезвоню.",
           "Вы позвонили в компанию {company}. К сожалению, сейчас никто не может ответить на ваш звонок. Пожалуйста, оставьте сообщение после звукового сигнала.",
           "Здравствуйте! Вы дозвонились до {name}. Оставьте, пожалуйста, своё имя и номер телефона, я обязательно перезвоню.",
           "Добрый день, это автоответчик {name}. Говорите после сигнала.",
           "Алло! Ха-ха, шучу, это автоответчик. Оставьте сообщение, {name} перезвонит.",
           "Вы позвонили в офис компании {company}. Наш рабочий день с девяти до шести. Оставьте сообщение.",
           "Здравствуйте, это {name}. Я в отпуске до понедельника, по срочным вопросам пишите на почту.",
           "Привет! Меня сейчас нет дома. Скажите что-нибудь после гудка.",
           "Вы позвонили {name}. Пожалуйста, оставьте сообщение, я перезвоню, как только смогу.",
           "Здравствуйте, вы позвонили в {company}. Все операторы заняты, оставьте ваш номер, и мы перезвоним.",
           "Добрый день! {name} сейчас не может подойти к телефону. Пожалуйста, говорите после сигнала."],
    "en": ["Hi, you've reached {name}. I can't take your call right now. Please leave a message after the tone.",
           "Hello, this is {name}. Sorry I missed your call, leave your name and number and I'll get back to you.",
           "Thank you for calling {company}. Our office is currently closed. Please leave a message after the beep.",
           "You have reached the voicemail of {name}. Please leave a message and I will call you back.",
           "Hey, it's {name}! I'm not around right now, so leave a message and I'll call you later.",
           "Hello! Ha, got you, this is a recording. Leave a message for {name}.",
           "You've reached {company}. Our business hours are nine to five, Monday through Friday. Please leave a message.",
           "Hi, this is {name}. I'm out of the office until Monday. For urgent matters, please call my assistant.",
           "Nobody can come to the phone right now. Please leave a message after the tone.",
           "This is {name}'s phone. Leave a message and I'll get back to you as soon as I can.",
           "Thanks for calling {company}. All our agents are busy. Leave your number and we will call you back.",
           "Good day, you've reached {name}. Please speak after the tone."],
}
VOICEMAIL_SHORT = {
    "ru": ["Оставьте сообщение.", "{name}. Оставьте сообщение.", "Говорите после сигнала.",
           "Это {name}, говорите.", "Меня нет, оставьте сообщение.", "Автоответчик, говорите.",
           "Перезвоню. Говорите.", "Сообщение после сигнала."],
    "en": ["Leave a message.", "{name}. Leave a message.", "Speak after the tone.",
           "It's {name}, leave a message.", "Not here, leave a message.", "Voicemail, go ahead.",
           "I'll call back. Go ahead.", "Message after the beep."],
}
ASSISTANT = {
    "ru": ["Здравствуйте, я голосовой помощник. {name} сейчас не может ответить. Что ему передать?",
           "Алло, это автоответчик. Представьтесь, пожалуйста, и скажите, по какому вы вопросу.",
           "Здравствуйте! Я виртуальный секретарь {name}. Назовите, пожалуйста, цель звонка.",
           "Добрый день, вас приветствует ассистент. Абонент занят, расскажите, зачем вы звоните, я передам.",
           "Здравствуйте, на звонок отвечает голосовой помощник. Скажите, что передать абоненту.",
           "Привет, я умный помощник {name}. Он перезвонит, а пока скажите, кто вы и по какому делу.",
           "Здравствуйте! Это робот-секретарь. Если у вас реклама, положите трубку. Если нет, представьтесь.",
           "Алло, я цифровой ассистент. Кажется, хозяин телефона занят. Хотите оставить сообщение?"],
    "en": ["Hi, the person you're calling is using a call screening service. Please say your name and why you're calling.",
           "Hello, I'm {name}'s digital assistant. {name} can't pick up. What would you like me to pass on?",
           "Hi there! This is an automated assistant. Please tell me who you are and what this is about.",
           "Hello, you're speaking with a virtual receptionist. Please state the reason for your call.",
           "Hi, this call is being screened. If you are a telemarketer, please hang up now.",
           "Hey, I'm the smart assistant for {name}. Tell me your name and I'll see if they are available.",
           "Hello! Your call is being answered by an assistant. What can I tell {name}?",
           "Hi, thanks for calling. I'm an assistant and I'll take a message. Who is calling, please?"],
}
IVR = {
    "ru": ["Здравствуйте, вы позвонили в компанию {company}. Для связи с оператором нажмите ноль.",
           "Добро пожаловать в {company}. Ваш звонок очень важен для нас. Оставайтесь на линии.",
           "Вы позвонили в службу поддержки {company}. Для продолжения на русском языке нажмите один.",
           "Компания {company} приветствует вас. Наберите добавочный номер или дождитесь ответа оператора.",
           "Здравствуйте! Все операторы заняты. Ожидайте, вам обязательно ответят.",
           "Вас приветствует {company}. Разговор может быть записан для улучшения качества обслуживания.",
           "Добрый день, это {company}. Чтобы узнать баланс, нажмите два. Чтобы поговорить с оператором, нажмите ноль.",
           "Здравствуйте, вы позвонили в {company}. Пожалуйста, дождитесь ответа специалиста."],
    "en": ["Thank you for calling {company}. For sales, press one. For support, press two.",
           "Welcome to {company}. Your call is important to us. Please stay on the line.",
           "You have reached {company} customer service. Please listen carefully as our options have changed.",
           "Thank you for calling {company}. If you know your party's extension, dial it now.",
           "Hello, all of our representatives are busy. Please hold and your call will be answered in order.",
           "Welcome to {company}. This call may be recorded for quality and training purposes.",
           "Hi, you've reached {company}. To check your balance, press two. To speak to an agent, press zero.",
           "Thank you for calling {company}. Please wait for the next available specialist."],
}
OPERATOR = {
    "ru": ["Абонент недоступен. Пожалуйста, позвоните позднее.",
           "Неправильно набран номер.",
           "Номер, который вы набрали, не обслуживается.",
           "Набранный вами номер не существует. Проверьте правильность набора.",
           "Абонент временно заблокирован.",
           "Вызываемый абонент не может принять ваш звонок.",
           "Данный вид связи недоступен для абонента.",
           "Извините, все линии заняты. Пожалуйста, позвоните позднее."],
    "en": ["The subscriber you are calling is not available at the moment. Please try again later.",
           "We're sorry, your call cannot be completed as dialed. Please check the number and dial again.",
           "The wireless customer you are calling is not available. Please try your call again later.",
           "All circuits are busy now. Please try your call again later.",
           "The number you have reached has been disconnected.",
           "The number you have dialed has been changed. The new number is not available.",
           "Your call cannot be completed at this time.",
           "The party you are trying to reach is not accepting calls at this time."],
}
NAMES = {
    "ru": ["Иван", "Ольга", "Сергей", "Анна", "Михаил", "Наталья", "Дмитрий", "Елена", "Алексей",
           "Мария", "Андрей", "Татьяна"],
    "en": ["John", "Mary", "Mike", "Sarah", "David", "Emma", "James", "Linda", "Robert", "Lisa",
           "Tom", "Kate"],
}
COMPANIES = {
    "ru": ["Ромашка", "Вектор", "Альфа Строй", "Спектр", "Северный ветер", "Гранит"],
    "en": ["Acme", "Globex", "Northwind", "Initech", "Umbrella Supplies", "Blue Harbor"],
}
LANGUAGES = {"ru": ["ru", "ru-lv"], "en": ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc"]}
VARIANTS = ["m1", "f1", "m2", "f2", "m3", "f3", "m4", "f4", "m5", "f5", "m6", "m7", "Andy", "Annie",
            "anika", "aunty", "boris", "david", "ed", "iven", "john", "linda", "max", "michel",
            "paul", "pedro", "quincy", "rob", "steph", "travis", "victor", "Alicia", "Andrea",
            "adam", "belinda", "benjamin"]
ROBOT_VARIANTS = ["robosoft", "robosoft2", "robosoft3", "UniRobot", "klatt", "klatt2", "klatt3", "announcer"]


def held_out(index: int, every: int) -> bool:
    """True for the items the test split owns: every `every`-th, counting from the last of each group."""
    return index % every == every - 1


def pool_for(items: list[str], split: str, every: int) -> list[str]:
    """The part of a pool that a split may use."""
    wanted = split == "test"
    return [item for i, item in enumerate(items) if held_out(i, every) == wanted]
